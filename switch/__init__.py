"""The switch. Imports nothing here, so that `import switch.scheme` never loads the switch itself."""

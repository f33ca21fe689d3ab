"""The ISO 20022 schemas the scheme validates against, shipped with it (SOURCES.md says where each
file comes from). Read them with `importlib.resources.files("switch.scheme.xsd")`."""

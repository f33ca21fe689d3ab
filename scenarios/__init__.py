"""The scenario product: scenario files, the runner on the in-process network, its reports, the
fuzzer and the demo."""

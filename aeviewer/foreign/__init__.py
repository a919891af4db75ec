"""Models trained outside aeviewer, given the Explorable surface: callables, nn.Modules, ONNX pairs, user code."""

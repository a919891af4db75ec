"""Dialogs: model picker, ONNX pair, file dialogs, slide exports."""

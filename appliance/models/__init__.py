"""Models: the shipped .tflite files, their runtime, their decoders and their fidelity checks."""

"""Models: the shipped .tflite files, the runtime that runs them, and decoders of their outputs."""

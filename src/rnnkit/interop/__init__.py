"""Moving weights between rnnkit (Keras layout) and other frameworks."""

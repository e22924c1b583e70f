"""Dense embeddings of chunks: the model (offline), the text fed to it, and the vector cache."""

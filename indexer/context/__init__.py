"""Context packing: the best few thousand tokens of a repository for an assistant's task."""

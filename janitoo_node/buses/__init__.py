"""Built-in buses and their components."""

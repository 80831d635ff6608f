"""Pure modules of the function and training, in process."""

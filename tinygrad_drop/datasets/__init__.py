"""Small data sets shipped with the package (read them with `tinygrad_drop.data`)."""

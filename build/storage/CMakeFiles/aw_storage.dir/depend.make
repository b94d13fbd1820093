# Empty dependencies file for aw_storage.
# This may be replaced when dependencies are built.

"""ICA decomposition, ICLabel classification and component removal."""

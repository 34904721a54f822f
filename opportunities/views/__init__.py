"""Pages of the opportunities app: the list (with export), detail, create/edit, move, the board."""

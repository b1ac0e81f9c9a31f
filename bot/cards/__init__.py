"""Quote cards: any passage typeset as an image worth sharing (PNG, through Pillow)."""

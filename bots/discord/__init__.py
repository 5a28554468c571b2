"""The Discord adapter (discord.py): slash commands and buttons in, embeds out. Imports discord."""

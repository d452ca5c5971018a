"""The alert engine: rule files, their validation, pure evaluation and alert lifecycle."""

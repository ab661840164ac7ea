"""Frame quality: the gate that decides good/bad, and classical focus/exposure measures that explain it."""

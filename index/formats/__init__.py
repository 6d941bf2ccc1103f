"""Readers that turn one input format (HTML, PDF, DOCX, plain text) into Extracted text."""

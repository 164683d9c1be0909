"""What Prefect is: its conventions and the catalogue of what its classes need. Knowledge, no analysis."""

"""The contract between incoming batches and their table: promotion, compatibility."""

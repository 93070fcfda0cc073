"""AVRO files of the tables, with fastavro: the backup codec and its schemas (schemas/*.avsc)."""

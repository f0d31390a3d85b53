"""Pure payment domain: no boto3, no environment, no clock reads (callers pass `now`)."""

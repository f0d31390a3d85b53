"""payment-webhooks: the code deployed with the Lambda functions."""

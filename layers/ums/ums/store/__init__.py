"""Every DynamoDB call of the service, through PynamoDB; nothing else talks to DynamoDB."""

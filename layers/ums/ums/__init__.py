"""Serverless UMS shared package: everything the Lambda handlers have in common."""

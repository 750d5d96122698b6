// Placeholder: the executable arrives with the service issue.
print("lossd: not yet wired")

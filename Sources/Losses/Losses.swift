// Placeholder: the losses arrive with the Losses issue.

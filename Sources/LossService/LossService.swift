// Placeholder: the loss routes arrive with the LossService issue.

"""Update feeds for the updaters that apps already ship: one module per format, each a pure rendering of the
feed view model in `dist.domain.feeds.model`."""

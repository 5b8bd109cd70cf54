"""Reference HTTP clients for the web APIs that Skymock mocks."""

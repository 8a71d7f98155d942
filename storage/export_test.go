package storage

// Models exposes the row types to the black-box schema test.
var Models = models

package app

// digestSignUpPath is the digest sign-up form that the home page links to.
//
// NOTE: the link is a placeholder until the digest server mounts its form
// at this path. Until then the link returns 404.
const digestSignUpPath = "/digests"

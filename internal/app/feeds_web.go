package app

// signUpURL returns the digest index page that the home page links to, or
// "" when no digest is configured, because mountDigests then mounts no
// digest routes.
func (a *App) signUpURL() string {
	if len(a.Config.Digests) == 0 {
		return ""
	}
	return "/digests"
}

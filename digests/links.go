package digests

import (
	"net/url"
	"strings"
	"time"
)

// Links builds the signed subscriber links under the public base URL.
type Links struct {
	BaseURL string
	Signer  *Signer
}

func (l Links) link(path, action, digest, email string, expires time.Time) string {
	token := l.Signer.Sign(Token{Action: action, Digest: digest, Email: email, Expires: expires})
	return strings.TrimSuffix(l.BaseURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// Confirm returns the double opt-in link, valid for ConfirmTTL.
func (l Links) Confirm(digest, email string, now time.Time) string {
	return l.link("/digests/confirm", ActionConfirm, digest, email, now.Add(ConfirmTTL))
}

// Unsubscribe returns the unsubscribe link, also the RFC 8058 one-click
// POST target, valid for LinkTTL.
func (l Links) Unsubscribe(digest, email string, now time.Time) string {
	return l.link("/digests/unsubscribe", ActionUnsubscribe, digest, email, now.Add(LinkTTL))
}

// Manage returns the link to the preferences form, valid for LinkTTL.
func (l Links) Manage(digest, email string, now time.Time) string {
	return l.link("/digests/manage", ActionManage, digest, email, now.Add(LinkTTL))
}

// ChannelFeed returns the URL of the channel's merged Atom feed.
func (l Links) ChannelFeed(channel string) string {
	return strings.TrimSuffix(l.BaseURL, "/") + "/feeds/" + channel + ".atom"
}

package handlers

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook/protection"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/webhook/workloadspread"
)

// Known lists the admission handlers kruise-apiserver serves, by path
// (under webhook.PathPrefix). Each needs an entry pointing at its path in
// a webhook configuration of artifacts/base/webhooks.yaml, and a paragraph
// on its failure policy in README's "Admission webhooks".
var Known = map[string]webhook.InitFunc{
	protection.Path:     protection.New,
	workloadspread.Path: workloadspread.New,
}

package host

import (
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/cloneset"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/imagelistpulljob"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/imagepulljob"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/nodeimage"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/statefulset"
	"github.com/kruise-apiserver/kruise-apiserver/pkg/controllers/workloadspread"
)

// Known lists the controllers that can run, by name (the names of
// --controllers).
var Known = map[string]controllers.InitFunc{
	"cloneset":         cloneset.New,
	"imagelistpulljob": imagelistpulljob.New,
	"imagepulljob":     imagepulljob.New,
	"nodeimage":        nodeimage.New,
	"statefulset":      statefulset.New,
	"workloadspread":   workloadspread.New,
}

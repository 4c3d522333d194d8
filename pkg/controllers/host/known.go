package host

import "github.com/kruise-apiserver/kruise-apiserver/pkg/controllers"

// Known lists the controllers that can run, by name (the names of
// --controllers).
var Known = map[string]controllers.InitFunc{}

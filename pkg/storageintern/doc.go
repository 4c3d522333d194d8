// Package storageintern lets the objects decoded from storage — those the
// watch cache holds — share identical read-only parts instead of holding a
// copy each: managed field sets and resource lists (docs/performance.md).
//
// Sharing is safe because nothing writes into these parts of a decoded
// object: objects in the watch cache are shared read-only with every reader
// already, an update starts from a deep copy of the cached object or from a
// fresh decode, the field manager sets new field sets on the objects it
// changes, and no strategy edits a resource list in place (controllers and
// clients work on their own decoded copies).
package storageintern

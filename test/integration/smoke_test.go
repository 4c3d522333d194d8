package integration

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kruise-apiserver/kruise-apiserver/test/integration/framework"
)

func TestServerStartsAndServesCloneSets(t *testing.T) {
	s := framework.Start(t, "")
	list, err := s.Clientset(t).AppsV1beta1().CloneSets("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("fresh server has %d clonesets", len(list.Items))
	}
}

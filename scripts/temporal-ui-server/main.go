// Command temporal-ui-server is the Temporal UI server of the module pinned in
// go.mod (github.com/temporalio/ui-server/v2: its HTTP server, API proxy and
// embedded UI) with one addition, -api-key-file: the UI reaches a frontend that
// requires an API key (a JWT in the authorization header) for every call.
//
// The stock server has no setting for that: it forwards only the browser's own
// authorization header, and its raw-history download forwards none. So, given a
// key file, this command puts a gRPC proxy in front of the configured frontend
// (frontend-proxy.go) and hands the UI server a config whose address is the
// proxy's socket. The frontend's TLS settings (mTLS) are the config's own,
// applied by the ui-server's TLS code on the proxy's connection.
//
// Flags: -config-dir (base.yaml and <env>.yaml, as the stock server reads
// them), -env, -api-key-file (re-read on every call, so a rotated key applies).
package main

import (
	"flag"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/temporalio/ui-server/v2/plugins/fs_config_provider"
	"github.com/temporalio/ui-server/v2/server"
	"github.com/temporalio/ui-server/v2/server/api"
	"github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/server_options"
)

func main() {
	configDir := flag.String("config-dir", "config", "directory holding base.yaml and <env>.yaml")
	env := flag.String("env", "development", "the config file read after base.yaml")
	apiKeyFile := flag.String("api-key-file", "", "a file holding the API key sent to the frontend as 'authorization: Bearer <key>'")
	flag.Parse()

	files := fs_config_provider.NewFSConfigProvider(*configDir, *env)
	cfg, err := files.GetConfig()
	if err != nil {
		log.Fatalf("temporal-ui-server: %v", err)
	}

	provider := config.ConfigProvider(files)
	var proxy *frontendProxy
	if *apiKeyFile != "" {
		proxy, err = startFrontendProxy(cfg.TemporalGRPCAddress, &cfg.TLS, *apiKeyFile)
		if err != nil {
			log.Fatalf("temporal-ui-server: %v", err)
		}
		provider = throughProxy{files: files, target: proxy.target}
		log.Printf("temporal-ui-server: calls to %s carry the API key from %s", cfg.TemporalGRPCAddress, *apiKeyFile)
	}

	// The stock command's options: the configured headers forwarded to the frontend.
	ui := server.NewServer(
		server_options.WithConfigProvider(provider),
		server_options.WithAPIMiddleware([]api.Middleware{headers.WithForwardHeaders(cfg.ForwardHeaders)}),
	)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		ui.Stop()
	}()
	if err := ui.Start(); err != nil {
		log.Printf("temporal-ui-server: %v", err)
	}
	if proxy != nil {
		proxy.stop()
	}
}

// throughProxy is the config as read from the files, with the frontend
// replaced by the proxy: a socket only this user can open, spoken in plain
// gRPC (the proxy holds the TLS settings).
type throughProxy struct {
	files  config.ConfigProvider
	target string
}

func (p throughProxy) GetConfig() (*config.Config, error) {
	cfg, err := p.files.GetConfig()
	if err != nil {
		return nil, err
	}
	cfg.TemporalGRPCAddress = p.target
	cfg.TLS = config.TLS{}
	return cfg, nil
}

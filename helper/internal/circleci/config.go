package circleci

import "context"

// PipelineConfig is GET /pipeline/{pipeline-id}/config: the configuration a pipeline ran. Source
// is the config as written (empty when the pipeline had none); SetupConfig is the setup
// configuration of a pipeline that ran a setup workflow, absent otherwise.
type PipelineConfig struct {
	Source              string `json:"source"`
	Compiled            string `json:"compiled"`
	SetupConfig         string `json:"setup-config,omitempty"`
	CompiledSetupConfig string `json:"compiled-setup-config,omitempty"`
}

// GetPipelineConfig returns the configuration of the pipeline with the given ID:
// GET /api/v2/pipeline/{pipeline-id}/config.
func (c *Client) GetPipelineConfig(ctx context.Context, id string) (*PipelineConfig, error) {
	if err := checkSegment("pipeline ID", id); err != nil {
		return nil, err
	}
	var cfg PipelineConfig
	if err := c.get(ctx, c.endpoint("pipeline", id, "config"), &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

"""The CloudFormation templates (``*.yaml``) and the tools that ship them: the scan function's zip, the deployment."""

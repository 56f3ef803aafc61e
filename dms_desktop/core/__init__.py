"""The Qt-free core: data model, AWS access, document service, configuration."""

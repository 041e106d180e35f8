enum _ProxyPlaceholder {}

"""The KPI modules: each registers its report sections (analytics.base) from ``register()``."""

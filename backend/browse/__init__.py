"""Browse: pages of traces as on a clinical review station (montages, display
filters, min-max downsampling, annotations, spectra)."""

def station_panel(request, part):
    return ""

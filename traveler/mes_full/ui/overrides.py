def part_panel(request, part):
    return ""

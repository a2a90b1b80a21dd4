from django.contrib import admin

admin.site.site_header = "Guild Ops — officers"
admin.site.site_title = "Guild Ops"
admin.site.index_title = "Guild operations"

module github.com/edocgw/edocgw

go 1.26.8

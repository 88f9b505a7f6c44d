# Syndic as a small static image: the binary, CA certificates and time
# zones from the distroless base, run as a non-root user.
#
#   docker build -t syndic .
#   docker run --rm syndic version

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=0.1.0-dev
# CGO off gives a static binary that runs without a libc.
RUN CGO_ENABLED=0 go build -trimpath \
	-ldflags "-s -w -X github.com/syndic-network/syndic/internal/app.Version=${VERSION}" \
	-o /out/syndic ./cmd/syndic

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/syndic /syndic
# The nonroot user (65532) owns no files in the image; data_dir is only
# used with the embedded NATS server, so mount a volume there if you run
# `syndic run`.
USER nonroot:nonroot
EXPOSE 8080 8081
ENTRYPOINT ["/syndic"]
CMD ["run", "--config", "/etc/syndic/syndic.yaml"]

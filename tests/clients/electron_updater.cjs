// electron-updater's own GenericProvider, headless on Node: read the channel file from distd, resolve the
// files as the updater does, pick the installer the platform's updater would, and download it through
// builder-util-runtime's checksum-verifying path. Prints one JSON document.
//
// usage: node electron_updater.cjs URL CHANNEL PLATFORM OUT_FILE   (PLATFORM: win32, darwin or linux;
// TEST_UPDATER_ARCH, electron-updater's own switch, picks the linux architecture)
"use strict"
const http = require("http")
const { CancellationToken, HttpExecutor, configureRequestOptions, configureRequestUrl } = require("builder-util-runtime")
const { GenericProvider } = require("electron-updater/out/providers/GenericProvider")
const { findFile } = require("electron-updater/out/providers/Provider")

class NodeHttpExecutor extends HttpExecutor {
  createRequest(options, callback) {
    const request = http.request(options)
    request.on("response", callback)
    return request
  }

  // As electron-updater's ElectronHttpExecutor.download, over Node's http: the body is checked against
  // options.sha512 while it streams, and the promise fails on a mismatch.
  download(url, destination, options) {
    return options.cancellationToken.createPromise((resolve, reject, onCancel) => {
      const requestOptions = { headers: options.headers || undefined, redirect: "manual" }
      configureRequestUrl(url, requestOptions)
      configureRequestOptions(requestOptions)
      this.doDownload(
        requestOptions,
        {
          destination,
          options,
          onCancel,
          callback: error => (error == null ? resolve(destination) : reject(error)),
          responseHandler: null,
        },
        0
      )
    })
  }
}

// What each platform's updater downloads: MacUpdater a .zip, NsisUpdater an .exe, AppImageUpdater an .AppImage.
const INSTALLERS = { darwin: ["zip", ["pkg", "dmg"]], win32: ["exe", undefined], linux: ["AppImage", ["rpm", "deb", "pacman"]] }

async function main() {
  const [url, channel, platform, outFile] = process.argv.slice(2)
  const executor = new NodeHttpExecutor()
  const updater = { channel: null, isAddNoCacheQuery: true }
  const provider = new GenericProvider({ provider: "generic", url, channel }, updater, {
    isUseMultipleRangeRequest: false,
    platform,
    executor,
  })
  let info
  try {
    info = await provider.getLatestVersion()
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: error.code || "ERROR", message: String(error.message) }) + "\n")
    return
  }
  const files = provider.resolveFiles(info)
  const [extension, not] = INSTALLERS[platform]
  const chosen = findFile(files, extension, not)
  await executor.download(chosen.url, outFile, {
    cancellationToken: new CancellationToken(),
    sha512: chosen.info.sha512,
    onProgress: null,
  })
  process.stdout.write(
    JSON.stringify({
      version: info.version,
      releaseDate: info.releaseDate,
      releaseNotes: info.releaseNotes === undefined ? null : info.releaseNotes,
      stagingPercentage: info.stagingPercentage === undefined ? null : info.stagingPercentage,
      files: files.map(f => ({ url: f.url.href, sha512: f.info.sha512, size: f.info.size })),
      downloaded: chosen.url.href,
      sha512: chosen.info.sha512,
    }) + "\n"
  )
}

main().catch(error => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n")
  process.exit(1)
})

module.exports = require("./synthCache.global").teardown;
